"""Deployment on the companion: service (the systemd unit) and watchdog (sd_notify)."""
