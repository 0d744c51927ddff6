-- One row per (environment, month, source, user). utf8mb4_bin: user ids are case-sensitive, and MySQL 8's
-- default collation (utf8mb4_0900_ai_ci) would merge "User1" and "user1" into one user.
-- Only the catch-all partition exists here: monthly partitions depend on today's date, so `mau db migrate`
-- and `mau partitions rotate` add them by reorganizing pmax (instant while pmax is empty).
-- pmax also means an event for a month without its own partition is stored, never rejected.
CREATE TABLE IF NOT EXISTS mau (
  user_id VARCHAR(255) NOT NULL,
  yearmonth VARCHAR(6) NOT NULL,
  source_id VARCHAR(30) NOT NULL,
  event_count INT UNSIGNED NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  environment_namespace VARCHAR(255) NOT NULL,
  PRIMARY KEY (environment_namespace, yearmonth, source_id, user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin
PARTITION BY RANGE COLUMNS (yearmonth) (
  PARTITION pmax VALUES LESS THAN (MAXVALUE)
);
