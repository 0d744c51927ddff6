-- A month's life after it ends.
-- mau_month_total: a month's totals kept when `partitions rotate` drops its rows (same lines as mau_summary:
-- per environment and source, and per environment with source_id '' for users across sources). Never
-- dropped: `count`, reports and `serve` answer a dropped month from it.
CREATE TABLE IF NOT EXISTS mau_month_total (
  yearmonth VARCHAR(6) NOT NULL,
  environment_namespace VARBINARY(1020) NOT NULL,
  source_id VARBINARY(120) NOT NULL,
  users BIGINT UNSIGNED NOT NULL,
  events BIGINT UNSIGNED NOT NULL,
  kept_at BIGINT NOT NULL,
  PRIMARY KEY (yearmonth, environment_namespace, source_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Settings the consumer and the CronJobs must agree on, written by the command that owns each: retention
-- (`partitions rotate --retain-months`, 13 until the first rotate) decides which events the consumer still writes.
CREATE TABLE IF NOT EXISTS mau_setting (
  name VARCHAR(64) NOT NULL,
  value VARCHAR(255) NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
INSERT IGNORE INTO mau_setting (name, value, updated_at) VALUES ('retain_months', '13', UNIX_TIMESTAMP());

-- The figures each report delivery sent, per environment ('' for the total): what late events are compared with.
-- destination as bytes: with the environment, a VARCHAR(512) key (4 bytes a character) would pass InnoDB's 3072.
CREATE TABLE IF NOT EXISTS mau_report_figure (
  yearmonth VARCHAR(6) NOT NULL,
  destination VARBINARY(512) NOT NULL,
  environment_namespace VARBINARY(1020) NOT NULL,
  users BIGINT UNSIGNED NOT NULL,
  events BIGINT UNSIGNED NOT NULL,
  sent_at BIGINT NOT NULL,
  PRIMARY KEY (yearmonth, destination, environment_namespace)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
