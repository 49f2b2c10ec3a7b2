INSERT INTO throttles (key, count, window_start, window_end, next_at)
VALUES ('seed-throttle-0014', 6, 1767225600000000, 32472144000000000, 1767398400000000);
