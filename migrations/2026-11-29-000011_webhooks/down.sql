DROP TABLE webhook_schedule_cursor;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
