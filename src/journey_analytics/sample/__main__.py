"""`python -m journey_analytics.sample OUT_DIR ...`: write a sample data set (see `main`)."""

from journey_analytics.sample import main

main()
