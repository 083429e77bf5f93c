@testset "train, checkpoint, sample, evaluate" begin
    # A text an LSTM learns in a few epochs; the greedy sample must then repeat it.
    text = repeat("hello world\n", 60)
    vocab = CharLSTM.build_vocabulary(text)
    spec = spec_for(CharLSTM.n_class(vocab); layers = 1, hidden = 16, embed = 8)
    train, validation = CharLSTM.split_text(text, 0.8)
    provider(part) = CharLSTM.CharSeqProvider(part, 4, 8, vocab, spec)
    model = mx.FeedForward(CharLSTM.LSTM(spec, 8))
    prefix = joinpath(mktempdir(), "ptb")
    mx.srand(1)
    quiet() do   # fit logs every epoch
        mx.fit(model, mx.ADAM(lr = 0.05), provider(train); n_epoch = 5, eval_data = provider(validation),
               eval_metric = CharLSTM.NLL(), initializer = mx.UniformInitializer(0.1),
               callbacks = [mx.do_checkpoint(prefix)])
    end
    meta = CharLSTM.RunMeta(vocab, spec, data_settings(train_ratio = 0.8), test_settings(seq_len = 8), 5)
    CharLSTM.write_meta(prefix, CharLSTM.record_epoch!(meta, 5; train_nll = 0.0, val_nll = 0.0, seconds = 0.0,
                                                       graph = :unrolled))

    path = mx.checkpoint_params_file(prefix, 5)
    @test sample_from(path; length = 23, temperature = 0, prime = "h") == ["hello world\nhello world\n"]
    @test CharLSTM.evaluate_text(CharLSTM.TrainedModel(path), validation)["nll"] < 0.1
end
