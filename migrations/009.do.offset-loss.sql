-- Messages a consumer group never applied because Kafka deleted them first (retention, kafka-delete-records):
-- recorded when the consumer finds its stored offset below a partition's log start, in the same transaction
-- that moves the offset to the log start. A loss stays unacknowledged (acknowledged_at NULL, `mau doctor`
-- exits 1) until an operator has found out why and ran `mau offsets ack-loss`.
-- from_offset..to_offset: the first and the last offset lost, both included.
CREATE TABLE IF NOT EXISTS mau_offset_loss (
  id BIGINT NOT NULL AUTO_INCREMENT,
  consumer_group VARCHAR(255) NOT NULL,
  topic VARCHAR(249) NOT NULL,
  kafka_partition INT NOT NULL,
  from_offset BIGINT NOT NULL,
  to_offset BIGINT NOT NULL,
  messages BIGINT NOT NULL,
  detected_at BIGINT NOT NULL,
  acknowledged_at BIGINT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY mau_offset_loss_range (consumer_group, topic, kafka_partition, from_offset)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
