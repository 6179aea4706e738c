"""Planning analytics: Erlang B/C/A, staffing, scheduling, forecasting."""
