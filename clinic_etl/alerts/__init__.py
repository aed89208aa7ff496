"""Alerts: a failed run or a failed check reaches a person by webhook and/or e-mail (ids only, never names).

Off unless CLINIC_ETL_ALERT_WEBHOOK or CLINIC_ETL_ALERT_SMTP_HOST is set; then the definitions carry the two
sensors (`sensors.py`) and the `alerts` resource (`channels.py`).
"""

from clinic_etl.alerts.channels import AlertDeliveryError, AlertResource
from clinic_etl.alerts.message import Alert
from clinic_etl.alerts.sensors import alert_sensors

__all__ = ["Alert", "AlertDeliveryError", "AlertResource", "alert_sensors"]
