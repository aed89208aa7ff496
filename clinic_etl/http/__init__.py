"""The one HTTP core shared by the Cliniko and Xero clients: tunables, errors, retries, rate limits."""
