-- One row per (month, environment) that `mau backfill` wrote from Druid. A month that is over is replaced
-- whole, so running it again rewrites the same rows; a month cut over with --until is added to what the
-- consumer wrote, so this row is what makes a second run a no-op instead of counting Druid's events twice.
CREATE TABLE IF NOT EXISTS mau_backfill (
  yearmonth VARCHAR(6) NOT NULL,
  environment_namespace VARCHAR(255) NOT NULL,
  origin VARCHAR(30) NOT NULL,
  mode VARCHAR(10) NOT NULL,
  window_from_ms BIGINT NOT NULL,
  window_to_ms BIGINT NOT NULL,
  rows_written BIGINT UNSIGNED NOT NULL,
  events BIGINT UNSIGNED NOT NULL,
  rejected BIGINT UNSIGNED NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (yearmonth, environment_namespace)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
