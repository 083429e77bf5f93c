"""
The char-lstm: MXNet.jl's character-level language model, on the `mx` binding of libmxnet.

It uses `mx` (the binding), `JSON` (files and graphs), `UserError` (a failure the user can
fix, shown as one sentence) and these standard libraries: Printf, Random, SHA, Mmap, CRC32c.
It never calls the bridge: long work takes `Hooks` (hooks.jl) to report and to be stopped.

Its folders, in include order, each using only those before it:
- the base: hooks, the settings structs (settings.jl, written from pyjlchar/settings.py) and
  how a section becomes one (sections.jl), the devices a context names;
- graph/: the network: its cells (lstm.jl) and graphs (unrolled.jl, fused.jl) behind one set
  of functions (cells.jl), running it forward (predictor.jl, step.jl), its loss (nll.jl),
  memory estimate and drawing;
- corpus/: characters as classes (vocab.jl), text files read and encoded once into a
  memory-mapped cache (text_reader.jl, encoded_corpus.jl, identity.jl), and the batches;
- files/: a run's meta file (meta.jl, the only reader and writer of it), its checkpoints and lock;
- train/: the course (schedule.jl), the policy, passes over the batches, one training pass
  (fit.jl), a run's state as it trains (run.jl) and a whole run with resume (train.jl);
- use/: a trained model loaded (trained_model.jl), sampling, evaluation, throughput.
"""
module CharLSTM

using Printf: @sprintf
import SHA
import ..MXNet
using ..JSON
using ..PyJLChar: UserError

const mx = MXNet

include("hooks.jl")
include("sections.jl")
include("settings.jl")
include("devices.jl")

include("graph/cells.jl")
include("graph/lstm.jl")
include("graph/unrolled.jl")
include("graph/fused.jl")
include("graph/predictor.jl")
include("graph/step.jl")
include("graph/nll.jl")
include("graph/memory.jl")
include("graph/drawing.jl")

include("corpus/vocab.jl")
include("corpus/text_reader.jl")
include("corpus/identity.jl")
include("corpus/encoded_corpus.jl")
include("corpus/batches.jl")

include("files/meta.jl")
include("files/checkpoints.jl")
include("files/run_lock.jl")

include("train/schedule.jl")
include("train/policy.jl")
include("train/passes.jl")
include("train/fit.jl")
include("train/run.jl")
include("train/train.jl")

include("use/trained_model.jl")
include("use/sampler.jl")
include("use/evaluate.jl")
include("use/throughput.jl")

end # module
