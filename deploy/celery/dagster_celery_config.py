"""Celery settings of the workers of deploy/celery/dagster.yaml: `celery -A dagster_celery.app worker` imports this
module when it is on the path (PYTHONPATH=deploy/celery). The broker is RabbitMQ; results go back over it (rpc)."""

import os

broker_url = os.environ.get("DAGSTER_CELERY_BROKER_URL", "pyamqp://guest:guest@127.0.0.1:5672//")
result_backend = "rpc://"
worker_prefetch_multiplier = 1  # a worker takes one run at a time: runs are long, and the queue limits them
broker_connection_retry_on_startup = True
