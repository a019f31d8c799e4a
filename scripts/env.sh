# Environment shared by the demo, the tests and JupyterLab (sourced by the Makefile targets).
export MLFLOW_DISABLE_TELEMETRY=true
export DO_NOT_TRACK=true
export MLFLOW_ALLOW_FILE_STORE=false
export SPARK_LOCAL_IP=127.0.0.1
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::FutureWarning:pyspark.pandas}"
export MPLBACKEND=Agg
