"""Cloud sinks: where a finished job goes after its files are safely on disk.

- `uploads` + `s3`: each output becomes a row of the `uploads` table (its S3
  key chosen once), uploaded by a background worker with retries; a failed
  upload never fails the job.
- `outbox` + `webhooks` + `breakers`: each announcement becomes a row of the
  `webhook_outbox` table, delivered through a per-host pybreaker circuit
  breaker with exponential backoff.
- `service.SinkService` runs both workers (GUI and CLI); `cli/cloud_hooks.py` wires the
  `pixtools process` flags; `health` reports S3 and breaker states; `links`
  gives the window presigned links for a job.

Nothing here imports Qt or torch; network calls never run on a job worker.
"""
