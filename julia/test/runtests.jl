# The Julia tests: `./scripts/julia julia/test/runtests.jl`. They run on the real libmxnet.
using Test
import Random
using PyJLChar
const mx = PyJLChar.mx

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
    @testset "charlstm" begin
        include("charlstm/fixtures.jl")
        include("charlstm/test_lstm.jl")
        include("charlstm/test_vocab.jl")
        include("charlstm/test_provider.jl")
        include("charlstm/test_encoded_corpus.jl")
        include("charlstm/test_nll.jl")
        include("charlstm/test_checkpoint_meta.jl")
        include("charlstm/test_sampler.jl")
        include("charlstm/test_evaluate.jl")
        include("charlstm/test_fused.jl")
        include("charlstm/test_bench.jl")
        include("charlstm/test_end_to_end.jl")
        include("charlstm/test_run_safety.jl")
        include("charlstm/test_run_policy.jl")
    end
end
