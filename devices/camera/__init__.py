"""Cameras: ``devices.camera.opencv.OpenCvCamera`` reads anything ``cv2.VideoCapture`` opens.

A USB index (``0`` or ``"0"``), a V4L2 path (``/dev/video0``), a stream URL (``rtsp://...``)
or a video file (the demo, optionally looped). Importing this package imports no cv2.
"""
