"""The V50 model: Mamba FGS1 encoder, graph AIRS encoder, fusion and heteroscedastic
decoder, trained on what the physics fit leaves (needs the optional extra ``model``)."""
