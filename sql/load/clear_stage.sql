DELETE FROM event_stage;
DELETE FROM daily_stage;
DELETE FROM month_stage;
