"""How good are the predicted spectra: error tables (``summary``) and figures (``figures``)
of depth predictions against the simulator's truth, and of the light-curve fits behind them."""
