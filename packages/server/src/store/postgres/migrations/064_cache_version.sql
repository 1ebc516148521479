-- The read cache's shared version (store/read-cache.ts): every instance advances it after a write through the store
-- has committed and reads it once per event-loop turn, so a change made on one instance (a client disabled) is
-- seen by the next request to any other. A sequence: advancing it takes no row lock and never waits.
CREATE SEQUENCE cache_version;
