-- Token-endpoint requests per rate-limit key (client or address) and minute, summed over every instance, so that
-- instances sharing a database share their rate limits (issue 13, item 1). Rows older than two minutes are purged.
CREATE TABLE rate_limit_counts (
  counter_key TEXT NOT NULL,
  window_start BIGINT NOT NULL,
  count BIGINT NOT NULL,
  PRIMARY KEY (counter_key, window_start)
);
