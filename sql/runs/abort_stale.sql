-- A run still marked running when a new one starts was killed (only one writer exists).
UPDATE run_log SET status = 'aborted', ended_at = now(),
       error = 'the process ended before the run finished; nothing of it was committed'
WHERE city = $city AND status = 'running';
