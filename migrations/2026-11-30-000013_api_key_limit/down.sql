UPDATE api_keys SET per_minute = 1000000 WHERE per_minute > 1000000;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_per_minute_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_per_minute_check
    CHECK (per_minute BETWEEN 1 AND 1000000);
