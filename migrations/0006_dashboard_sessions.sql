CREATE TABLE `jetmon_dashboard_sessions` (
	`session_hash` char(64) NOT NULL,
	`api_key_id` bigint unsigned NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`expires_at` datetime(3) NOT NULL,
	CONSTRAINT `jetmon_dashboard_sessions_session_hash` PRIMARY KEY(`session_hash`)
);
--> statement-breakpoint
CREATE INDEX `idx_api_key` ON `jetmon_dashboard_sessions` (`api_key_id`);
--> statement-breakpoint
CREATE INDEX `idx_expires` ON `jetmon_dashboard_sessions` (`expires_at`);
