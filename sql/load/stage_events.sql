-- Append one validated batch (registered as `batch`) to the run's staging table.
INSERT INTO event_stage
SELECT _unit, _row, event_id, occurred_at, local_date, service_key, channel, stage,
       case_id, user_seconds, eid, epayment, device, rating,
       hash(event_id, occurred_at, service_key, channel, stage, case_id,
            user_seconds, eid, epayment, device, rating)
FROM batch;
