# The Julia tests: `./scripts/julia julia/test/runtests.jl`. They run on the real libmxnet.
# Their folders mirror julia/src: mx/ (the binding) and CharLSTM/{graph,corpus,files,train,use}/,
# each test_<name>.jl testing the source file <name>.jl of the same folder.
using Test
import Random
using PyJLChar
const mx = PyJLChar.mx
const CharLSTM = PyJLChar.CharLSTM
const JSON = PyJLChar.JSON

# libmxnet logs a line per bind otherwise.
ENV["MXNET_SUBGRAPH_VERBOSE"] = "0"

@testset "PyJLChar" begin
    @testset "mx" begin
        include("mx/test_context.jl")
        include("mx/test_ndarray.jl")
        include("mx/test_symbolic_node.jl")
        include("mx/test_executor.jl")
        include("mx/test_cached_op.jl")
        include("mx/test_random.jl")
        include("mx/test_initializer.jl")
        include("mx/test_checkpoint.jl")
        include("mx/test_optimizer.jl")
        include("mx/test_kvstore.jl")
        include("mx/test_io.jl")
        include("mx/test_metric.jl")
        include("mx/test_callback.jl")
        include("mx/test_model.jl")
    end
    @testset "CharLSTM" begin
        include("CharLSTM/fixtures.jl")
        include("CharLSTM/test_settings.jl")
        @testset "graph" begin
            include("CharLSTM/graph/test_cells.jl")
            include("CharLSTM/graph/test_unrolled.jl")
            include("CharLSTM/graph/test_fused.jl")
            include("CharLSTM/graph/test_nll.jl")
            include("CharLSTM/graph/test_memory.jl")
        end
        @testset "corpus" begin
            include("CharLSTM/corpus/test_vocab.jl")
            include("CharLSTM/corpus/test_encoded_corpus.jl")
            include("CharLSTM/corpus/test_identity.jl")
            include("CharLSTM/corpus/test_batches.jl")
        end
        @testset "files" begin
            include("CharLSTM/files/test_meta.jl")
            include("CharLSTM/files/test_checkpoints.jl")
            include("CharLSTM/files/test_run_lock.jl")
        end
        @testset "train" begin
            include("CharLSTM/train/test_schedule.jl")
            include("CharLSTM/train/test_passes.jl")
            include("CharLSTM/train/test_train.jl")
            include("CharLSTM/train/test_policy.jl")
        end
        @testset "use" begin
            include("CharLSTM/use/test_sampler.jl")
            include("CharLSTM/use/test_evaluate.jl")
            include("CharLSTM/use/test_throughput.jl")
        end
        include("CharLSTM/test_end_to_end.jl")
    end
end
