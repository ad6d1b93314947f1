"""mini-sd: a miniature Stable Diffusion that this project trains itself.

Same three models as SD 1.4, in the same roles and with the same classes
(CLIPTextModel, AutoencoderKL, UNet2DConditionModel, SD 1.4's noise
schedule), trained on a picture world of coloured shapes that `world.py`
draws. `train.py` trains it (`make mini-model`), `quality.py` measures it
(`make mini-quality`).
"""
