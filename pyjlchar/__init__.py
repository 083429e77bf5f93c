"""pyjlchar: a character-level LSTM on libmxnet, written in Julia and driven from Python."""
__version__ = "0.1.0"
