-- A key may allow up to 60,000,000 requests a minute (a million a second),
-- as the API has said since the limit was raised; the table still said
-- 1,000,000, so a larger limit failed on the constraint.
ALTER TABLE api_keys DROP CONSTRAINT api_keys_per_minute_check;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_per_minute_check
    CHECK (per_minute BETWEEN 1 AND 60000000);
