"""The streaming runtime: sources, detection, tracking, reading, voting and publishing."""
