CREATE TABLE `jetmon_slo_objectives` (
	`id` bigint unsigned AUTO_INCREMENT NOT NULL,
	`name` varchar(128) NOT NULL,
	`blog_id` bigint unsigned NOT NULL,
	`endpoint_id` bigint unsigned,
	`sli` enum('availability','latency') NOT NULL,
	`latency_threshold_ms` int unsigned,
	`target` decimal(6,3) NOT NULL,
	`window` varchar(16) NOT NULL,
	`alert_policy` json,
	`budget_warn_percent` decimal(5,2) NOT NULL DEFAULT 25,
	`budget_critical_percent` decimal(5,2) NOT NULL DEFAULT 10,
	`active` boolean NOT NULL DEFAULT true,
	`owner_tenant_id` varchar(128),
	`created_by` varchar(128) NOT NULL,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	`owner_key` varchar(128) GENERATED ALWAYS AS (COALESCE(owner_tenant_id, '')) STORED,
	`active_name` varchar(128) GENERATED ALWAYS AS (IF(active, name, NULL)) STORED,
	CONSTRAINT `jetmon_slo_objectives_id` PRIMARY KEY(`id`),
	CONSTRAINT `uk_owner_active_name` UNIQUE(`owner_key`,`active_name`)
);
--> statement-breakpoint
CREATE INDEX `idx_blog` ON `jetmon_slo_objectives` (`blog_id`);
--> statement-breakpoint
CREATE INDEX `idx_active` ON `jetmon_slo_objectives` (`active`,`id`);
--> statement-breakpoint
CREATE TABLE `jetmon_slo_daily_snapshots` (
	`objective_id` bigint unsigned NOT NULL,
	`day` date NOT NULL,
	`sli` double,
	`budget_consumed_seconds` double NOT NULL DEFAULT 0,
	`budget_remaining_percent` double,
	`burn_rate_24h` double,
	`streak_days` int unsigned NOT NULL DEFAULT 0,
	`incidents` int unsigned NOT NULL DEFAULT 0,
	`created_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_slo_daily_snapshots_objective_id_day_pk` PRIMARY KEY(`objective_id`,`day`)
);
--> statement-breakpoint
CREATE TABLE `jetmon_slo_streaks` (
	`objective_id` bigint unsigned NOT NULL,
	`current_days` int unsigned NOT NULL DEFAULT 0,
	`best_days` int unsigned NOT NULL DEFAULT 0,
	`broken_at` datetime(3),
	`last_day` date,
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_slo_streaks_objective_id` PRIMARY KEY(`objective_id`)
);
