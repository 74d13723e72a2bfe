export interface BuiltImage {
  service: string;
  image: string;
  imageId: string;
}

export interface PushedImage {
  image: string;
  digest: string;
}
