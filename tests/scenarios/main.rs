//! Cross-crate scenarios, one test binary (ripgrep's and GitButler's shape): the `keyward` CLI
//! against temp homes and a moto estate, the secret-leak checks, and the desktop app driven
//! through WebDriver.

mod apigateway_moto;
mod aws_moto;
mod cli;
mod daemon;
mod desktop;
mod desktop_pages;
mod faults;
mod hardening;
mod package;
mod providers;
mod reliability;
mod reports;
mod rotation;
mod rotation_apigateway;
mod rotation_atlas;
mod rotation_by_hand;
mod rotation_fastly;
mod rotation_newrelic;
mod rotation_policy;
mod scan;
mod secrets;
