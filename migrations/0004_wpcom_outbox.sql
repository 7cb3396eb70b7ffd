CREATE TABLE `jetmon_wpcom_outbox` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`endpoint_id` bigint unsigned NOT NULL,
	`event_id` bigint unsigned NOT NULL,
	`status_id` tinyint unsigned NOT NULL,
	`payload` json NOT NULL,
	`cooldown_minutes` smallint unsigned,
	`status` enum('pending','sending','sent','abandoned','suppressed') NOT NULL DEFAULT 'pending',
	`attempt` int unsigned NOT NULL DEFAULT 0,
	`next_attempt_at` datetime(3),
	`lease_expires_at` datetime(3),
	`last_status_code` int,
	`last_response` varchar(2048),
	`last_attempt_at` datetime(3),
	`sent_at` datetime(3),
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_wpcom_outbox_id` PRIMARY KEY(`id`),
	CONSTRAINT `uk_event_status` UNIQUE(`event_id`,`status_id`)
);
--> statement-breakpoint
CREATE INDEX `idx_status_next` ON `jetmon_wpcom_outbox` (`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `idx_endpoint_status` ON `jetmon_wpcom_outbox` (`endpoint_id`,`status`);--> statement-breakpoint
ALTER TABLE `jetmon_events` ADD `down_notified_at` datetime(3);
