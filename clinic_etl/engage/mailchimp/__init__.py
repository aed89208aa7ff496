"""Overdue invoices followed up through Mailchimp: client.py (Marketing API, batches), overdue.py (pure), load.py."""
