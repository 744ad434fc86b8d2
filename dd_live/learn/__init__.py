"""Learning: MFCC features, the critic CNN, how it learns from ratings (trainer), its pretrained
start, and the Metropolis-Hastings sampler that finds loops it likes. Imports torch."""
