-- Instant, exact MAU: counters kept up to date inside the consumer's transaction.
-- mau_user_month knows whether a user is new to an environment-month across all sources; it is
-- partitioned like mau, and `mau partitions rotate` manages both tables' partitions together.
CREATE TABLE IF NOT EXISTS mau_user_month (
  environment_namespace VARCHAR(255) NOT NULL,
  yearmonth VARCHAR(6) NOT NULL,
  user_id VARCHAR(255) NOT NULL,
  PRIMARY KEY (environment_namespace, yearmonth, user_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin
PARTITION BY RANGE COLUMNS (yearmonth) (
  PARTITION pmax VALUES LESS THAN (MAXVALUE)
);

-- One row per environment-month-source, and one per environment-month with source_id '' (all sources:
-- users distinct across sources). yearmonth leads the key: a month's rows are one range to read or lock.
CREATE TABLE IF NOT EXISTS mau_summary (
  yearmonth VARCHAR(6) NOT NULL,
  environment_namespace VARCHAR(255) NOT NULL,
  source_id VARCHAR(30) NOT NULL,
  users BIGINT UNSIGNED NOT NULL,
  events BIGINT UNSIGNED NOT NULL,
  PRIMARY KEY (yearmonth, environment_namespace, source_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Existing rows (a schema migrated before this file) start their counters from what is there.
INSERT IGNORE INTO mau_user_month (environment_namespace, yearmonth, user_id)
  SELECT DISTINCT environment_namespace, yearmonth, user_id FROM mau;
INSERT INTO mau_summary (yearmonth, environment_namespace, source_id, users, events)
  SELECT yearmonth, environment_namespace, source_id, COUNT(*), SUM(event_count) FROM mau GROUP BY yearmonth, environment_namespace, source_id;
INSERT INTO mau_summary (yearmonth, environment_namespace, source_id, users, events)
  SELECT yearmonth, environment_namespace, '', COUNT(DISTINCT user_id), SUM(event_count) FROM mau GROUP BY yearmonth, environment_namespace;
