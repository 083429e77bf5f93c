@testset "memory estimate: a size that cannot fit is refused with the figure" begin
    settings = test_settings(seq_len = 32, batch_size = 32)
    small = spec_for(80; layers = 2, hidden = 256, embed = 256)
    @test 10 * 2^20 < CharLSTM.training_bytes(small, settings, 1) < Sys.total_memory() ÷ 4
    @test CharLSTM.training_bytes(CharLSTM.with_graph(small, :fused), settings, 1) == CharLSTM.training_bytes(small, settings, 1)
    @test CharLSTM.training_bytes(small, settings, 2) == 2 * CharLSTM.training_bytes(small, settings, 1)
    huge = spec_for(80; layers = 2, hidden = 100_000, embed = 256)
    msg = user_error(() -> CharLSTM.check_memory(huge, settings, 1))
    @test occursin("needs at least", msg) && occursin("GiB", msg) && occursin("lower hidden", msg)
    @test occursin("2x100000 LSTM (unrolled graph)", msg)
end
