DROP TABLE api_key_daily_usage;
DROP TABLE api_keys;
