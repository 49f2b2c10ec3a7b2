INSERT INTO throttles (key, count, window_start, window_end, next_at)
VALUES ('seed-throttle-0014', 6, '2026-01-01T00:00:00Z', '3000-01-01T00:00:00Z', '2026-01-03T00:00:00Z');
