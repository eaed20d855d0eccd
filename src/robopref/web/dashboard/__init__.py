"""The data behind the admin dashboard: live QA, progress, plots, batches and the export."""
