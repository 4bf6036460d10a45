"""The park's model: the asset registry, schedules, shared physics, balances."""
