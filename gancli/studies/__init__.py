"""Studies built of ordinary runs and compare-losses reports (today: the claims atlas)."""
