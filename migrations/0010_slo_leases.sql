CREATE TABLE `jetmon_slo_leases` (
	`name` varchar(64) NOT NULL,
	`holder` varchar(255),
	`period_start` datetime(3),
	`lease_expires_at` datetime(3),
	`finished_at` datetime(3),
	`updated_at` datetime(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
	CONSTRAINT `jetmon_slo_leases_name` PRIMARY KEY(`name`)
);
--> statement-breakpoint
CREATE INDEX `idx_type_ended` ON `jetmon_events` (`check_type`,`ended_at`);
