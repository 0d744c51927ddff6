-- One row per (month, destination) the monthly report reached: a second run of the CronJob skips it.
-- destination is a key without secrets ("slack", "webhook:https://host/path", "file:/path").
CREATE TABLE IF NOT EXISTS mau_report_delivery (
  yearmonth VARCHAR(6) NOT NULL,
  destination VARCHAR(512) NOT NULL,
  delivered_at BIGINT NOT NULL,
  attempts INT NOT NULL,
  PRIMARY KEY (yearmonth, destination)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
