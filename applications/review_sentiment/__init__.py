"""Social: review sentiment with NLTK preprocessing, a BiLSTM and a text CNN vs classic baselines."""
