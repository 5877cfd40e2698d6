CREATE TABLE `library_home_rows` (
	`source_id` text NOT NULL,
	`row` text NOT NULL,
	`items` text NOT NULL,
	`fetched_at` integer NOT NULL,
	PRIMARY KEY(`source_id`, `row`),
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE TABLE `library_item_details` (
	`source_id` text NOT NULL,
	`item_id` text NOT NULL,
	`data` text NOT NULL,
	`children` text,
	`fetched_at` integer,
	`seen_at` integer NOT NULL,
	PRIMARY KEY(`source_id`, `item_id`),
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `library_item_details_seen_idx` ON `library_item_details` (`seen_at`);--> statement-breakpoint
CREATE TABLE `library_item_genres` (
	`source_id` text NOT NULL,
	`library_id` text NOT NULL,
	`genre` text NOT NULL,
	`item_id` text NOT NULL,
	`rank_title` integer DEFAULT 0 NOT NULL,
	`rank_added` integer DEFAULT 0 NOT NULL,
	`rank_year` integer DEFAULT 0 NOT NULL,
	`rank_rating` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`source_id`, `library_id`, `genre`, `item_id`),
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `library_item_genres_item_idx` ON `library_item_genres` (`source_id`,`item_id`);--> statement-breakpoint
CREATE INDEX `library_item_genres_title_idx` ON `library_item_genres` (`source_id`,`library_id`,`genre`,`rank_title`);--> statement-breakpoint
CREATE INDEX `library_item_genres_added_idx` ON `library_item_genres` (`source_id`,`library_id`,`genre`,`rank_added`);--> statement-breakpoint
CREATE INDEX `library_item_genres_year_idx` ON `library_item_genres` (`source_id`,`library_id`,`genre`,`rank_year`);--> statement-breakpoint
CREATE INDEX `library_item_genres_rating_idx` ON `library_item_genres` (`source_id`,`library_id`,`genre`,`rank_rating`);--> statement-breakpoint
CREATE TABLE `library_items` (
	`source_id` text NOT NULL,
	`item_id` text NOT NULL,
	`library_id` text NOT NULL,
	`title_key` text NOT NULL,
	`added_at` integer,
	`year` integer,
	`rating` real,
	`updated_at` integer,
	`watched` integer DEFAULT 0 NOT NULL,
	`in_progress` integer DEFAULT 0 NOT NULL,
	`data` text NOT NULL,
	`rank_title` integer DEFAULT 0 NOT NULL,
	`rank_added` integer DEFAULT 0 NOT NULL,
	`rank_year` integer DEFAULT 0 NOT NULL,
	`rank_rating` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`source_id`, `item_id`),
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `library_items_title_idx` ON `library_items` (`source_id`,`library_id`,`rank_title`,`watched`,`in_progress`,`year`);--> statement-breakpoint
CREATE INDEX `library_items_added_idx` ON `library_items` (`source_id`,`library_id`,`rank_added`,`watched`,`in_progress`,`year`);--> statement-breakpoint
CREATE INDEX `library_items_year_idx` ON `library_items` (`source_id`,`library_id`,`rank_year`,`watched`,`in_progress`,`year`);--> statement-breakpoint
CREATE INDEX `library_items_rating_idx` ON `library_items` (`source_id`,`library_id`,`rank_rating`,`watched`,`in_progress`,`year`);--> statement-breakpoint
CREATE TABLE `library_sync` (
	`source_id` text NOT NULL,
	`library_id` text NOT NULL,
	`full_sync_at` integer,
	`synced_at` integer,
	`high_water_ms` integer,
	`error` text,
	`error_at` integer,
	PRIMARY KEY(`source_id`, `library_id`),
	FOREIGN KEY (`source_id`) REFERENCES `sources`(`id`) ON UPDATE no action ON DELETE cascade
);
