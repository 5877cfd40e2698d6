CREATE TABLE `sign_in_sessions` (
	`kind` text NOT NULL,
	`key` text NOT NULL,
	`expires_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`state` text NOT NULL,
	`secret` text NOT NULL,
	PRIMARY KEY(`kind`, `key`)
);
--> statement-breakpoint
CREATE INDEX `sign_in_sessions_expires_idx` ON `sign_in_sessions` (`expires_at`);--> statement-breakpoint
CREATE INDEX `status_history_at_idx` ON `status_history` (`at`);