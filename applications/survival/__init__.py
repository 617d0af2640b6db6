"""Medical case study: DeepSurv patient risk and a horizon classifier vs Cox and random survival forest."""
