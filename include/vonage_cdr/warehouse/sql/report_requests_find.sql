-- Request ids recorded for exactly these report parameters, newest first. Only rows recent enough that
-- Vonage may still know the report (metadata lives 4 days); the caller checks the reuse window itself.
SELECT request_id
FROM cdr.report_requests
WHERE fingerprint = %(fingerprint)s
  AND recorded_at > now() - interval '4 days'
ORDER BY recorded_at DESC
LIMIT 5
