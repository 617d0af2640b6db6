"""Finance: next-day stock price with LSTM/GRU and a 1-D CNN against random-walk baselines."""
