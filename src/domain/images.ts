export interface BuiltImage {
  service: string;
  image: string;
  imageId: string;
  /** Nothing the image is made of changed since the last build: that build's image, no buildx run (src/images/build-key.ts). */
  reused?: boolean;
}

export interface PushedImage {
  image: string;
  digest: string;
}
