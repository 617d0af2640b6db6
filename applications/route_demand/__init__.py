"""Logistics case study: 14-day route-demand forecasts with one global RNN/1D-CNN, turned into a capacity plan."""
