# Shared by the scripts of scripts/results/ (sourced).
# The FP32 ResNet-20 run of a seed (scripts/results/accuracy.sh trains them;
# seed 1's directory predates the seed suffix).
fp32() { if [ "$1" = 1 ]; then echo runs/fmnist_resnet20_fp32; else echo runs/fmnist_resnet20_fp32_s$1; fi; }
# A search run directory whose manifest says it finished.
finished() { grep -qs '"status": *"finished"' "$1/manifest.json"; }
